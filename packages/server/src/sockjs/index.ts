export { SockjsServer, type SockjsHost } from './server.js';
