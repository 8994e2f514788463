# integration-bot: `integration-bot serve` in a slim Python image, as a non-root user, the SQLite database
# on a volume at /data. Settings come from the environment (README.md "Settings"); docker-compose.yml
# beside this file runs it.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install . \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin bot \
    && mkdir -p /data \
    && chown bot:bot /data

# The database lives on the volume; PORT is the settings' default, published by docker-compose.yml.
ENV INTEGRATION_BOT_DB=/data/integration-bot.db \
    PORT=3000
VOLUME ["/data"]
WORKDIR /data
USER bot
EXPOSE 3000

# 200 while polling is fresh and alerts reach Slack; 503 (unhealthy) otherwise. The slim image has no
# curl: Python's urllib fails on a 503 or no answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

# SIGTERM: no new work, Slack calls in flight finish (at most 10 s), exit 0.
STOPSIGNAL SIGTERM
CMD ["integration-bot", "serve"]
