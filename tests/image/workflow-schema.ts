// A compact JSON schema of the GitHub Actions workflow keys this repository
// uses. Closed objects (additionalProperties: false) so a misspelt key fails
// here instead of being ignored by GitHub until the workflow first runs.

const stringMap = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } } as const;
const expression = { type: 'string', pattern: '^\\$\\{\\{.+\\}\\}$' } as const;

const step = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_-]*$' },
    name: { type: 'string' },
    if: { type: 'string' },
    uses: { type: 'string', pattern: '^[\\w.-]+/[\\w./-]+@[\\w.-]+$' },
    run: { type: 'string', minLength: 1 },
    shell: { type: 'string' },
    with: stringMap,
    env: stringMap,
    'working-directory': { type: 'string' },
    'continue-on-error': { type: 'boolean' },
    'timeout-minutes': { type: 'number' },
  },
  oneOf: [{ required: ['uses'] }, { required: ['run'] }],
} as const;

const job = {
  type: 'object',
  additionalProperties: false,
  required: ['runs-on', 'steps'],
  properties: {
    name: { type: 'string' },
    'runs-on': { type: 'string', pattern: '^ubuntu-(2[2-9]|[3-9]\\d)\\.04$' },
    needs: { type: ['string', 'array'] },
    if: { type: 'string' },
    permissions: { type: 'object' },
    'timeout-minutes': { type: 'number', minimum: 1, maximum: 360 },
    env: stringMap,
    container: {
      type: 'object',
      additionalProperties: false,
      required: ['image'],
      properties: { image: { type: 'string' }, options: { type: 'string' } },
    },
    strategy: {
      type: 'object',
      additionalProperties: false,
      required: ['matrix'],
      properties: {
        'fail-fast': { type: 'boolean' },
        'max-parallel': { type: 'number' },
        matrix: {
          type: 'object',
          properties: { include: { type: 'array', items: { type: 'object' } }, exclude: { type: 'array' } },
          additionalProperties: { type: 'array', minItems: 1 },
        },
      },
    },
    steps: { type: 'array', minItems: 1, items: step },
  },
} as const;

const branchesFilter = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { branches: { type: 'array', items: { type: 'string' } }, tags: { type: 'array', items: { type: 'string' } } },
} as const;

export const WORKFLOW_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'on', 'permissions', 'jobs'],
  properties: {
    name: { type: 'string' },
    on: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: { push: branchesFilter, pull_request: branchesFilter, workflow_dispatch: { type: ['object', 'null'] } },
    },
    permissions: {
      type: 'object',
      additionalProperties: false,
      properties: { contents: { enum: ['read', 'write'] }, packages: { enum: ['read', 'write'] } },
    },
    concurrency: {
      type: 'object',
      additionalProperties: false,
      required: ['group'],
      properties: { group: { type: 'string' }, 'cancel-in-progress': { type: 'boolean' } },
    },
    env: { type: 'object', additionalProperties: { anyOf: [{ type: 'string' }, expression] } },
    jobs: { type: 'object', minProperties: 1, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_-]*$' }, additionalProperties: job },
  },
} as const;
