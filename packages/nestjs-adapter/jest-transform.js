/**
 * ts-jest for this package's files, with this package's tsconfig.test.json (Nest's decorator flags).
 *
 * Why a wrapper: ts-jest 29 keeps one compiler configuration per Jest project config and ignores
 * the options of a second transform entry in the same project: whichever entry a worker uses first
 * wins, and Nest decorators then compile as TC39 decorators. Handing ts-jest a tagged copy of the
 * project config gives this package's files a configuration of their own.
 */
const { TsJestTransformer } = require('ts-jest');

const tagged = new WeakMap();

function withOwnConfig(options) {
  let config = tagged.get(options.config);
  if (!config) {
    config = { ...options.config, globals: { ...options.config.globals, wsuiteNestjsAdapter: true } };
    tagged.set(options.config, config);
  }
  return { ...options, config };
}

class NestjsAdapterTransformer extends TsJestTransformer {
  getCacheKey(source, path, options) {
    return super.getCacheKey(source, path, withOwnConfig(options));
  }

  process(source, path, options) {
    return super.process(source, path, withOwnConfig(options));
  }

  processAsync(source, path, options) {
    return super.processAsync(source, path, withOwnConfig(options));
  }
}

module.exports = {
  createTransformer: (options) => new NestjsAdapterTransformer(options),
};
