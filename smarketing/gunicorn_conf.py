"""gunicorn hooks (docker-compose.yml: `-c python:smarketing.gunicorn_conf`).

With PROMETHEUS_MULTIPROC_DIR set, the workers share their request metrics through files in
that folder: it starts empty (a restarted container keeps its /tmp), and a worker that exits
is marked dead so its live gauges stop counting.
"""

import os
import shutil


def on_starting(server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
