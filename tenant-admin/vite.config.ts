/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` serves the console on :5173 and forwards /api to a running `patron serve`
// (PATRON_API_URL, default http://127.0.0.1:8080).
const api = process.env.PATRON_API_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { '/api': { target: api, changeOrigin: false } },
  },
  build: {
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      // The console, and the member portal as its own small page (served for /m/...).
      input: { console: 'index.html', portal: 'portal.html' },
      output: {
        // Libraries change less often than the app: separate files cache better. Ant Design
        // is left to the automatic split, so the portal loads only the components it uses.
        manualChunks: {
          react: ['react', 'react-dom', 'react-router'],
          query: ['@tanstack/react-query', 'openapi-fetch', 'i18next', 'react-i18next'],
        },
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
