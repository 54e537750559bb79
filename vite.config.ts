import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { datasetServer } from './scripts/datasetServer.ts';

// Cross-origin isolation (COOP/COEP) so SharedArrayBuffer, and with it threaded WASM, stays possible.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react(), datasetServer()],
  server: { headers: isolation },
  preview: { headers: isolation, port: 4173 },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
