// Stands in for react-devtools-core, which ink loads only when DEV=true (see bundle-cli.mjs).
export default {
  initialize() {},
  connectToDevTools() {
    process.stderr.write('ltdh-inspect: React DevTools are not available in this build\n');
  },
};
