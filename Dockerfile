# storywatch in a container, installed from the same locked requirements as `make run`.
FROM python:3.11.7-slim-bookworm

WORKDIR /app
COPY requirements/run.lock requirements/run.lock
RUN pip install --no-cache-dir --require-hashes -r requirements/run.lock

COPY pyproject.toml README.md ./
COPY extractors extractors
COPY warehouse warehouse
COPY flows flows
COPY seeds seeds
RUN pip install --no-cache-dir --no-deps .

ENV STORYWATCH_WAREHOUSE=/data/storywatch.duckdb \
    PREFECT_HOME=/data/prefect
VOLUME /data
ENTRYPOINT ["storywatch"]
CMD ["run"]
