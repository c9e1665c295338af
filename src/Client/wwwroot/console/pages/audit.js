// Audit log: not built yet (the page's owner replaces this module).
import { html, pageHeader, emptyState } from '../js/core.js';

export const nav = { label: 'Audit log', path: '/audit', order: 90 };

export const routes = [
  { path: '/audit', title: 'Audit log', view: async () => html`${pageHeader('Audit log')}${emptyState('This page is not built yet.')}` },
];
