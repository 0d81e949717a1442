declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}

/** Given by the preload in Electron, and by the test shim in the e2e host: the contract's verbs. */
interface Window {
  keyroom: import('../../src-shared/contract/api').KeyroomApi;
}
