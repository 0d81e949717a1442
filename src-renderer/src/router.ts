/**
 * Screens by route. Hash history: the app is a file:// page in Electron, where paths would point
 * at files. Every route is behind the keystore gate in App.vue.
 */
import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';
import { WIZARDS } from './wizards/registry';

const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/keys' },
  { path: '/keys', name: 'keys', component: () => import('./views/keys/KeysView.vue'), meta: { title: 'Keys' } },
  { path: '/keys/:keyId', name: 'key', component: () => import('./views/keys/KeyDetailView.vue'), meta: { title: 'Key' } },
  { path: '/tokens', name: 'tokens', component: () => import('./views/tokens/TokensView.vue'), meta: { title: 'Tokens' } },
  { path: '/audit', name: 'audit', component: () => import('./views/audit/AuditView.vue'), meta: { title: 'Audit log' } },
  { path: '/keystore', name: 'keystore', component: () => import('./views/keystore/KeystoreView.vue'), meta: { title: 'Keystore' } },
  ...WIZARDS.map((w) => ({ path: `/wizards/${w.id}`, name: `wizard-${w.id}`, component: w.load, props: { wizard: w.id }, meta: { title: w.title } })),
  { path: '/:rest(.*)*', redirect: '/keys' },
];

export const router = createRouter({ history: createWebHashHistory(), routes });

router.afterEach((to) => {
  const title = typeof to.meta.title === 'string' ? to.meta.title : '';
  document.title = title ? `${title} · Keyroom` : 'Keyroom';
});
