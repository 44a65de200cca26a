// Entry of dist/server.js: only creates the connection (stdio, ipc or a socket, from argv) and starts the server.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

startServer(createConnection(ProposedFeatures.all));
