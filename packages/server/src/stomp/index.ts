export { StompBroker, type BrokerNode } from './broker.js';
export { isStompSubprotocol, selectSubprotocol } from './subprotocols.js';
