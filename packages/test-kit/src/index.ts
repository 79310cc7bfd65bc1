/**
 * `@wsuite/test-kit`: the contract suite that every adapter (and core itself) runs.
 */
export { runContractSuite } from './contract-suite';
export type { ContractFixture, ContractCapabilities, ContractFixtureFactory } from './contract-suite';
export { CONTRACT_LIMITS, CONTRACT_TOKEN, CONTRACT_USER } from './contract-suite';
