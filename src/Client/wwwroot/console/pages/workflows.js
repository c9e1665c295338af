// Workflows: not built yet (the page's owner replaces this module).
import { html, pageHeader, emptyState } from '../js/core.js';

export const nav = { label: 'Workflows', path: '/workflows', order: 45 };

export const routes = [
  { path: '/workflows', title: 'Workflows', view: async () => html`${pageHeader('Workflows')}${emptyState('This page is not built yet.')}` },
];
