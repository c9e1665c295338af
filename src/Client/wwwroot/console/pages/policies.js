// Policies: not built yet (the page's owner replaces this module).
import { html, pageHeader, emptyState } from '../js/core.js';

export const nav = { label: 'Policies', path: '/policies', order: 70 };

export const routes = [
  { path: '/policies', title: 'Policies', view: async () => html`${pageHeader('Policies')}${emptyState('This page is not built yet.')}` },
];
