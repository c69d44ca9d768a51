/** @type {import('next').NextConfig} */
export default {
  // The example lives in a bigger repository: keep Next to this folder and the examples' install.
  turbopack: { root: new URL("..", import.meta.url).pathname },
  outputFileTracingRoot: new URL("..", import.meta.url).pathname,
};
