// Catalog: not built yet (the page's owner replaces this module).
import { html, pageHeader, emptyState } from '../js/core.js';

export const nav = { label: 'Catalog', path: '/catalog', order: 40 };

export const routes = [
  { path: '/catalog', title: 'Catalog', view: async () => html`${pageHeader('Catalog')}${emptyState('This page is not built yet.')}` },
];
