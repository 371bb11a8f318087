// rankwise/serve: the HTTP server (Cohere, Jina, TEI and OpenAI-compatible routes) and its request batching. Needs
// fastify, prom-client and @fastify/swagger, loaded when a server is created.
export { SearchService, type SearchRequest, type SearchResponse, type SearchHit } from './search-service.js';
export { RequestBatcher, ScoreBatcher, QueueFullError } from './batcher.js';
export { createServer, type ServeOptions, type RunningServer } from './server.js';
