// Telemetry: not built yet (the page's owner replaces this module).
import { html, pageHeader, emptyState } from '../js/core.js';

export const nav = { label: 'Telemetry', path: '/telemetry', order: 80 };

export const routes = [
  { path: '/telemetry', title: 'Telemetry', view: async () => html`${pageHeader('Telemetry')}${emptyState('This page is not built yet.')}` },
];
