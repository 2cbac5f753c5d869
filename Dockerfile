# Production image of the `insights` binary. Build: docker build -t insights .
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cargo build --release --locked -p server --bin insights

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 insights
COPY --from=build /src/target/release/insights /usr/local/bin/insights
COPY static /srv/insights/static
WORKDIR /srv/insights
USER insights
ENV INSIGHTS_BIND=0.0.0.0:8080 INSIGHTS_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["insights"]
CMD ["serve"]
