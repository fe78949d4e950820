"""What `kpis` tells the rest of the project after the facts changed (kpis imports none of them).

`facts_recomputed` is sent after a recompute's transaction committed, with:
- `families`: names of the families of measures rebuilt (see `facts.families()`);
- `days`: the record days rebuilt, or None when every day was.

`live_records_written` is sent after a transaction that wrote targets, campaigns or team
members committed: records the query reads live, with no facts and so no recompute to wait
for, with `resource`, the resource written.
"""

from django.dispatch import Signal

facts_recomputed = Signal()
live_records_written = Signal()
