// A tiny wallet for trying payments on a local anvil: deploy a test USDC, sign a challenge, transfer, sign an x402 payment.
// Usage (RPC from AIPAYGENT_RPC_URL, default http://127.0.0.1:8545; keys default to anvil's well-known accounts):
//   tsx examples/anvil-wallet.ts deploy                      -> prints AIPAYGENT_USDC_ADDRESS=0x… and mints 1000 USDC to the payer
//   tsx examples/anvil-wallet.ts sign "<challenge text>"     -> prints {"address","signature"} for POST /wallets/link
//   tsx examples/anvil-wallet.ts transfer <usdc> <to> <amount base units>  -> prints the tx hash
//   tsx examples/anvil-wallet.ts x402 <PAYMENT-REQUIRED header value>      -> prints a PAYMENT-SIGNATURE header value
import { randomBytes } from 'node:crypto';
import { createPublicClient, createWalletClient, defineChain, getAddress, http, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { compileToken } from '../test/support/chain.js';

const rpcUrl = process.env.AIPAYGENT_RPC_URL ?? 'http://127.0.0.1:8545';
// anvil's default accounts 0 (deployer) and 1 (payer): public test keys, never use them on a real chain.
const DEPLOYER = (process.env.DEPLOYER_KEY ?? '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80') as Hex;
const PAYER = (process.env.PAYER_KEY ?? '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d') as Hex;

const transport = http(rpcUrl);
const probe = createPublicClient({ transport });
const chainId = await probe.getChainId();
const chain = defineChain({ id: chainId, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
const client = createPublicClient({ chain, transport });
const walletOf = (key: Hex) => createWalletClient({ account: privateKeyToAccount(key), chain, transport });
const payer = privateKeyToAccount(PAYER);
const [command, ...args] = process.argv.slice(2);

if (command === 'deploy') {
  const { abi, bytecode } = compileToken();
  const hash = await walletOf(DEPLOYER).deployContract({ abi, bytecode, args: [process.env.TOKEN_NAME ?? 'USD Coin', '2'] });
  const usdc = getAddress((await client.waitForTransactionReceipt({ hash })).contractAddress!);
  const mint = await walletOf(DEPLOYER).writeContract({ address: usdc, abi, functionName: 'mint', args: [payer.address, 1_000_000_000n] });
  await client.waitForTransactionReceipt({ hash: mint });
  console.log(`AIPAYGENT_USDC_ADDRESS=${usdc}`);
  console.log(`# minted 1000 USDC to the payer ${payer.address}`);
} else if (command === 'sign' && args[0]) {
  console.log(JSON.stringify({ address: payer.address, signature: await payer.signMessage({ message: args[0] }) }));
} else if (command === 'transfer' && args.length === 3) {
  const { abi } = compileToken();
  const hash = await walletOf(PAYER).writeContract({ address: args[0] as Address, abi, functionName: 'transfer', args: [args[1] as Address, BigInt(args[2]!)] });
  await client.waitForTransactionReceipt({ hash });
  console.log(hash);
} else if (command === 'x402' && args[0]) {
  const required = JSON.parse(Buffer.from(args[0], 'base64').toString('utf8'));
  const accepted = required.accepts[0];
  const now = BigInt(Math.floor(Date.now() / 1000));
  const authorization = {
    from: payer.address, to: accepted.payTo as Address, value: BigInt(accepted.amount),
    validAfter: now - 60n, validBefore: now + BigInt(accepted.maxTimeoutSeconds), nonce: `0x${randomBytes(32).toString('hex')}` as Hex,
  };
  const signature = await payer.signTypedData({
    domain: { name: accepted.extra.name, version: accepted.extra.version, chainId, verifyingContract: accepted.asset },
    types: {
      TransferWithAuthorization: [
        { name: 'from', type: 'address' }, { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' },
        { name: 'validAfter', type: 'uint256' }, { name: 'validBefore', type: 'uint256' }, { name: 'nonce', type: 'bytes32' },
      ],
    },
    primaryType: 'TransferWithAuthorization',
    message: authorization,
  });
  const payload = {
    x402Version: 2, resource: required.resource, accepted,
    payload: { signature, authorization: { ...authorization, value: String(authorization.value), validAfter: String(authorization.validAfter), validBefore: String(authorization.validBefore) } },
  };
  console.log(Buffer.from(JSON.stringify(payload)).toString('base64'));
} else {
  console.error('usage: anvil-wallet.ts deploy | sign "<challenge>" | transfer <usdc> <to> <amount> | x402 <PAYMENT-REQUIRED>');
  process.exit(2);
}
