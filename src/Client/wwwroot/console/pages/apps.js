// Apps: not built yet (the page's owner replaces this module).
import { html, pageHeader, emptyState } from '../js/core.js';

export const nav = { label: 'Apps', path: '/apps', order: 20 };

export const routes = [
  { path: '/apps', title: 'Apps', view: async () => html`${pageHeader('Apps')}${emptyState('This page is not built yet.')}` },
];
