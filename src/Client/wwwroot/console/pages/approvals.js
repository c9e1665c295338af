// Approvals: not built yet (the page's owner replaces this module).
import { html, pageHeader, emptyState } from '../js/core.js';

export const nav = { label: 'Approvals', path: '/approvals', order: 30 };

export const routes = [
  { path: '/approvals', title: 'Approvals', view: async () => html`${pageHeader('Approvals')}${emptyState('This page is not built yet.')}` },
];
