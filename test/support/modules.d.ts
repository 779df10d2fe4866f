// Types for the npm aliases of older framework majors used by the adapter tests.
declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
