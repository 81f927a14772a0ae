import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../../runtime/paths';

/** The public WeChat samples and vectors (../shared/data/wechat-official-account/SOURCE.md). */
export const WECHAT_DATA = join(REPO_ROOT, '..', 'shared', 'data', 'wechat-official-account');

export const readWechatData = (path: string): string => readFileSync(join(WECHAT_DATA, path), 'utf8');

/** One entry of messages-wechatpy/MANIFEST.json. */
export interface SampleEntry {
  file: string;
  MsgType: string;
  Event: string | null;
  source_test: string;
}

export const SAMPLES: SampleEntry[] = JSON.parse(readWechatData('messages-wechatpy/MANIFEST.json')) as SampleEntry[];

export interface CryptoVectors {
  plain_mode_url_signature: (
    | { token: string; timestamp: string; nonce: string; expected_signature: string }
    | { token: string; timestamp: string; nonce: string; signature: string; expected: 'reject' }
    | { inputs: string[]; expected_signature: string }
  )[];
  aes_mode: {
    id: string;
    encoding_aes_key: string;
    token: string;
    appid?: string;
    receive_id?: string;
    timestamp: string;
    nonce: string;
    random_16b?: string;
    plaintext?: string;
    plaintext_file?: string;
    expected_encrypt_base64?: string;
    derived_here_msg_signature?: string;
    msg_signature?: string;
    echostr?: string;
    derived_here_decrypted_echostr?: string;
    negative_case?: { nonce: string };
    envelope_file?: string;
    expected_plaintext_file?: string;
    expected_envelope_file?: string;
  }[];
}

export const VECTORS = JSON.parse(readWechatData('crypto_vectors.json')) as CryptoVectors;
