// The x402 v2 HTTP header names, apart from the codecs so that routes name them without loading viem.
export const PAYMENT_REQUIRED = 'payment-required';
export const PAYMENT_SIGNATURE = 'payment-signature';
export const PAYMENT_RESPONSE = 'payment-response';
