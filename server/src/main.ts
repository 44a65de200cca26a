// Entry of dist/server.js: only creates the connection (stdio, ipc or a socket, from argv) and starts the server.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';
import { createStdioConnection } from './stdioConnection';

startServer(process.argv.includes('--stdio') ? createStdioConnection() : createConnection(ProposedFeatures.all));
