import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { datasetIndexPlugin } from './scripts/datasetIndexPlugin.ts';

// Cross-origin isolation (COOP/COEP) so SharedArrayBuffer, and with it threaded WASM, stays possible.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react(), datasetIndexPlugin()],
  server: { headers: isolation },
  preview: { headers: isolation, port: 4173 },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
});
