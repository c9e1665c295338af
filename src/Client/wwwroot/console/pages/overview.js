// Overview: not built yet (the page's owner replaces this module).
import { html, pageHeader, emptyState } from '../js/core.js';

export const nav = { label: 'Overview', path: '/', order: 10 };

export const routes = [
  { path: '/', title: 'Overview', view: async () => html`${pageHeader('Overview')}${emptyState('This page is not built yet.')}` },
];
