import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // A gRPC status is chosen in one place, the error table of src/errors.ts; only the server speaks gRPC.
    files: ['src/**/*.ts'],
    ignores: ['src/errors.ts', 'src/server/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: '@grpc/grpc-js', message: 'make errors with new ProviderError(code, …): src/errors.ts gives each code its status' }] },
      ],
    },
  },
);
