# coachbot: multi-stage build on Debian bookworm, installing packages with the same script as `make run`.
#   docker build -t coachbot .
#   docker run -p 8080:8080 -v coachbot-data:/var/lib/coachbot coachbot

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCOACH_BUILD_TESTS=OFF -DCOACH_BUILD_BENCHMARKS=OFF \
 && cmake --build /build -j "$(nproc)" \
 && /build/coachbot index --content /src/content

FROM debian:bookworm AS runtime
COPY scripts/install-deps /usr/local/lib/coachbot/install-deps
RUN /usr/local/lib/coachbot/install-deps --runtime && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/coachbot --create-home coachbot
COPY --from=build /build/coachbot /usr/local/bin/coachbot
COPY --from=build /src/content /usr/share/coachbot/content
USER coachbot
WORKDIR /var/lib/coachbot
ENV COACHBOT_PORT=8080 \
    COACHBOT_HOST=0.0.0.0 \
    COACHBOT_DB=/var/lib/coachbot/coachbot.db \
    COACHBOT_CONTENT=/usr/share/coachbot/content
VOLUME ["/var/lib/coachbot"]
EXPOSE 8080
# /readyz checks the database too; a container that cannot reach its database is not healthy.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${COACHBOT_PORT}/readyz" || exit 1
# SIGTERM: coachbot stops accepting, finishes in-flight requests and checkpoints the WAL.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/coachbot"]
CMD ["serve"]
