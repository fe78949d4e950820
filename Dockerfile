# smarketing: one image for web (gunicorn), worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SMARKETING_VAR_DIR=/app/var

WORKDIR /app

# Noto CJK draws Chinese in the digest's chart images; gettext compiles the translations below.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-cjk gettext \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, exactly as pinned and hashed in requirements.lock (`make lock`), so
# code changes do not reinstall them and every build gets the same files.
COPY requirements.lock ./
RUN pip install --upgrade pip && pip install --require-hashes -r requirements.lock

COPY manage.py ./
COPY smarketing smarketing
COPY templates templates
COPY static static
COPY locale locale
# The code runs from /app (manage.py, gunicorn and celery put the working directory first).
RUN SECRET_KEY=collectstatic-only python manage.py compilemessages --verbosity 0 \
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input \
    && useradd --create-home --uid 1000 smarketing \
    && mkdir -p /app/var/media && chown -R smarketing /app/var

USER smarketing
EXPOSE 8000
CMD ["gunicorn", "smarketing.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
