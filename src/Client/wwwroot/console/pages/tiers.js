// Model tiers: not built yet (the page's owner replaces this module).
import { html, pageHeader, emptyState } from '../js/core.js';

export const nav = { label: 'Model tiers', path: '/tiers', order: 60 };

export const routes = [
  { path: '/tiers', title: 'Model tiers', view: async () => html`${pageHeader('Model tiers')}${emptyState('This page is not built yet.')}` },
];
