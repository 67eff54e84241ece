# Pana: slim, non-root image. Build: docker build -t pana .
#
# Reproducible: the base image is pinned to an exact release, and every Python package
# comes from requirements.lock with its hash (pip refuses anything else). Pin the digest
# too where you build, with the one your registry reports:
#   docker buildx imagetools inspect python:3.11.13-slim-bookworm
#   FROM python:3.11.13-slim-bookworm@sha256:<digest>
FROM python:3.11.13-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY knowledge ./knowledge
# Pana itself, built with the hashed setuptools above: nothing unpinned is fetched.
RUN pip install --no-deps --no-build-isolation . \
 && useradd --system --create-home --uid 10001 pana \
 && mkdir -p /app/data && chown pana /app/data && chmod 700 /app/data

USER pana
ENV PANA_ENV=production \
    DATABASE_URL=sqlite:////app/data/pana.db
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["pana", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
