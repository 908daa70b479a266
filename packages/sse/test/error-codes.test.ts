import { describe, expect, it } from 'vitest';
import { BrokerUnavailableError } from '../src/index.js';

describe('error codes', () => {
  it('BrokerUnavailableError is FERRY_ERR_BROKER_UNAVAILABLE (docs/errors.md)', () => {
    const err = new BrokerUnavailableError('redis is away');
    expect(err.code).toBe('FERRY_ERR_BROKER_UNAVAILABLE');
    expect(err.name).toBe('BrokerUnavailableError');
  });
});
