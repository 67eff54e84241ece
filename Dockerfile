# Pana: slim, non-root image. Build: docker build -t pana .
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY knowledge ./knowledge
RUN pip install . \
 && useradd --system --create-home --uid 10001 pana \
 && mkdir -p /app/data && chown pana /app/data

USER pana
ENV PANA_ENV=production \
    DATABASE_URL=sqlite:////app/data/pana.db
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["pana", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
