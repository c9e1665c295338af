// Budgets & cost: not built yet (the page's owner replaces this module).
import { html, pageHeader, emptyState } from '../js/core.js';

export const nav = { label: 'Budgets & cost', path: '/cost', order: 50 };

export const routes = [
  { path: '/cost', title: 'Budgets & cost', view: async () => html`${pageHeader('Budgets & cost')}${emptyState('This page is not built yet.')}` },
];
