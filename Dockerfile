# Mandate's server image. TypeScript runs through tsx (a runtime dependency), so there is no build
# step: install the production dependencies, copy the sources, serve.
FROM node:20-slim

WORKDIR /app
ENV NODE_ENV=production

COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY bin ./bin
COPY src ./src
COPY proto ./proto
COPY schema ./schema
COPY tsconfig.json ./

# Without DATABASE_URL the server uses embedded PGlite in /app/data: mount a volume there to keep
# it. With DATABASE_URL (as in docker-compose.yml) the data lives in Postgres and this stays empty.
RUN mkdir -p /app/data && chown node:node /app/data
ENV MANDATE_DATA=/app/data
VOLUME ["/app/data"]

USER node
EXPOSE 50051
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["node", "bin/mandate.js", "health"]
CMD ["node", "bin/mandate.js", "serve", "--host", "0.0.0.0"]
