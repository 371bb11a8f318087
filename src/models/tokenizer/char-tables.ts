/*
 * Character classes of the reference (Hugging Face's Rust `tokenizers`).
 *
 * The Rust tokenizer classifies characters with its own, older Unicode tables: several hundred code points that
 * today's \p{P} / \p{Mn} call punctuation or accents are letters to it, it keeps unassigned code points that
 * \p{Cn}-based checks would drop, and its CJK ranges skip U+2B820..U+2B91F. Regex classes would also change with
 * the ICU of each Node release. So the sets are carried here as measured from `tokenizers` 0.23.2 over every code
 * point: comma-separated base-36 `start` or `start-count` ranges (count = extra code points after start). NFD and
 * lowercasing still come from the JS engine; the parity test sweeps every code point to catch an ICU that drifts.
 */
const RUST_TABLES = {
  /** Removed by clean_text: Rust `is_other` minus \t \n \r, plus U+0000 and U+FFFD. */
  control:
    '0-8,b-1,e-h,3j-w,4t,16o-5,17g,1ct,1e7,4r2,6bv-4,6cq-4,6e8-4,6ee-9,188w-4xr,1edb,1ek9-2,1ekd,1hvh,' +
    '2fts-3,2jxv-7,jny9,jnz4-2n,l2io-1ekd,mh34-1ekd',
  /** Rust `char::is_whitespace`. */
  whitespace:
    '9-4,w,3p,4g,4g0,6bk-a,6co-1,6cv,6e7,9hc',
  /** BertPreTokenizer punctuation: ASCII punctuation or the Rust tables' P* categories. */
  punctuation:
    'x-e,1m-6,2j-5,3f-3,4h,4n,4r,52-1,57,5b,ou,p3,122-5,13d-1,14u,14w,14z,152,16b-1,16x-1,170-1,17f,' +
    '17i-1,19m-3,1ck,1ds-d,1kn-2,1m8-e,1ni,1us-1,1v4,25s,2r8,2tr,2u2-1,2ys-e,2z8,30a-3,32d,34g-4,34p-1,' +
    '37u-5,3cr,3ts-8,3y8,4fh-1,4gr-1,4iz-2,4l1-1,4pg-2,4pk-2,4qo-a,4zo-1,55q-1,59c-6,59k-5,5ei-6,5j0-3,' +
    '5kr-4,5mm-1,5og-7,5oz,6c0-n,6cw-j,6dh-c,6dv-b,6f1-1,6fh-1,6x4-3,6y1-1,7s8-d,7ut-1,7vq-9,877-l,89k-3,' +
    '8ak-1,8vt-3,8vy-1,8z4,934-1a,94g-i,9hd-2,9hk-9,9hw-b,9io,9j1,9ls,9ob,wla-1,wst-2,wvn,wvy,wz6-5,' +
    'x9w-3,xce-1,xdk-2,xdo,xf2-1,xgf,xj5-c,xjy-1,xng-3,xr2-1,xrk-1,xyj,1e0u-1,1e6o-9,1e7k-y,1e8k-d,1e8z,' +
    '1e94,1e96-1,1edd-2,1edh-5,1edo-3,1ee2-1,1ee7-1,1eez-2,1ef3,1efv,1efx,1efz-6,1erk-2,1fa7,1fbk,1fn3,' +
    '1g7r,1gdb,1ge7,1gls-8,1gn3,1gq8-6,1gs9-6,1gux-3,1hs7-6,1hvf-1,1hvi-3,1hz4-3,1i0k-1,1i2t-4,1i31,1i3f,' +
    '1i3h-2,1i60-5,1i95,1io6,1iv5-m,1iyp-2,1j5o-2,1lrk-4,1zla-1,1zp1,1zqv-4,1zr8,2ftr,2lqf-4',
  /**
   * Code points Rust's NFD leaves alone as plain starters (its normalization tables predate them) while ICU
   * decomposes them or gives them a combining class: NFD is applied around them, never across.
   */
  nfdStarters:
    '1kt,1p3-8,1qi-9,1z2,2f0,2m3-1,2wq,4k5,5a7-u,5b4-b,5x2-4,x7w,1fpl,1fqc,1h5w-3,1h7t-4,1hgr-1,1hiy-1,1hj1-2,' +
    '1hl2-a,1hmq-3,1htc,1id7,1if7,1if9,1ifi,1ifl,1ih1,1ih3-1,1iha-2,1ila,1jcp-1,1jjs,1jjx-1,1jk3,1jog,1jqs,1jrb,' +
    '1jtl,1kci,1kck-1,1kev,1kqp-1,1xr5-7,1xrj,206g-2,20og-1,2mxb,2n1s-6,2nce,2ne4-3,2nsc-3,2nzi-1,2o6b,2o6e,' +
    '2o6m-1,2o6t',
  /** Nonspacing marks, removed after NFD when accents are stripped. */
  nonspacingMarks:
    'lc-33,w3-4,13l-18,14v,14x-1,150-1,153,174-a,18r-k,19s,1cm-6,1cv-5,1d3-1,1d6-3,1e9,1f4-q,1ie-a,1kb-8,' +
    '1li-3,1ln-8,1lx-2,1m1-4,1nd-2,1r7-v,1tm,1to,1tt-7,1u5,1u9-6,1uq-1,1vl,1x8,1xd-3,1xp,1ya-1,1z5-1,20s,' +
    '20x-1,213-1,217-2,21d,228-1,22d,22p-1,24c,24h-4,24n-1,24t,25e-1,269,27w,27z,281-3,28d,28m,28y-1,29u,' +
    '2bk,2bx,2dc,2f2-2,2fa-2,2fe-3,2fp-1,2g2-1,2gx,2ik,2in,2iu,2j0-1,2jm-1,2kh,2m9-3,2ml,2n6-1,2q2,2qa-2,' +
    '2qe,2sx,2t0-6,2tj-7,2wh,2wk-5,2wr-1,2x4-5,2zc-1,305,307,309,31t-d,328-4,32e-1,32l-a,32x-z,346,371-3,' +
    '376-5,37d-1,37h-1,388-1,38e-2,38x-3,39e,39h-1,39p,3a5,3tp-2,4k2-2,4ky-2,4lu-1,4mq-1,4ok-1,4on-6,4p2,' +
    '4p5-a,4pp,4qz-2,4vd,4yo-2,4yv-1,4z6,4zd-2,55j-1,55n,57a,57c-6,57k,57m,57p-7,583-9,58f,59s-d,5c0-3,' +
    '5dg,5di-4,5do,5du,5ez-8,5fk-1,5gi-3,5go-1,5gr-2,5ie,5ig-1,5il,5in-2,5kc-7,5km-1,5ow-2,5p0-c,5pe-6,' +
    '5pp,5pw,5q0-1,5vk-1h,5x8-3,6hc-c,6ht,6hx-b,8vj-2,8zj,928-v,9ii-3,9ll-1,wvj,wvo-9,wwu-1,wz4-1,x6q,' +
    'x6u,x6z,x7p-1,xc4,xcw-h,xeu-7,xfr-a,xhc-2,xir,xiu-3,xj0,xk5,xm1-5,xm9-1,xmd-1,xmr,xn0,xoc,xps,xpu-2,' +
    'xpz-1,xq6-1,xq9,xrg-1,xrq,xyd,xyg,xyl,1dlq,1e68-f,1e74-f,1eyl,1f4w,1f92-4,1gjl-2,1gjp-1,1gjw-3,' +
    '1gl4-2,1glb,1gpx-1,1hq9,1hrs-e,1htr-2,1hv7-3,1hvd-1,1hxc-2,1hyf-4,1hyl-7,1i0j,1i0w-1,1i2e-8,1i2y-2,' +
    '1i5r-2,1i5w,1i5y-1,1ian,1iar-7,1ibk-1,1id8,1idc,1iee-6,1ieo-4,1inn-5,1inu,1inz-1,1io2-1,1iuq-3,' +
    '1iv0-1,1iv3-1,1ivw-1,1iyb-7,1iyl,1iyn-1,1j1n,1j1p,1j1s-5,1j1z,1j4t-2,1j4y-3,1j53-4,1zow-4,1zqo-6,' +
    '20lr-3,2ftp-1,2jxj-2,2jy3-7,2jyd-6,2jze-3,2k3m-2,2lmo-1i,2lob-1d,2lpx,2lqc,2lqz-4,2lr5-e,2ok0-6,' +
    'jo5c-6n',
};

/** Rust BertNormalizer's `is_chinese_char` ranges, U+2B920 start included as it is there. */
const CHINESE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x4e00, 0x9fff],
  [0x3400, 0x4dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b920, 0x2ceaf],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];

export const CONTROL = 1;
export const WHITESPACE = 2;
export const PUNCT = 4;
export const MARK = 8;
export const CHINESE = 16;
export const NFD_STARTER = 32;

let charFlagTable: Uint8Array | undefined;

/** One byte of flags per code point (1.1 MB), built on first use; a lookup is then one load. */
export function charFlags(): Uint8Array {
  if (charFlagTable) return charFlagTable;
  const table = new Uint8Array(0x110000);
  const mark = (ranges: string, flag: number) => {
    for (const range of ranges.split(',')) {
      const dash = range.indexOf('-');
      const start = parseInt(dash < 0 ? range : range.slice(0, dash), 36);
      const end = dash < 0 ? start : start + parseInt(range.slice(dash + 1), 36);
      for (let cp = start; cp <= end; cp++) table[cp] |= flag;
    }
  };
  mark(RUST_TABLES.control, CONTROL);
  mark(RUST_TABLES.whitespace, WHITESPACE);
  mark(RUST_TABLES.punctuation, PUNCT);
  mark(RUST_TABLES.nonspacingMarks, MARK);
  mark(RUST_TABLES.nfdStarters, NFD_STARTER);
  for (const [start, end] of CHINESE_RANGES) for (let cp = start; cp <= end; cp++) table[cp] |= CHINESE;
  charFlagTable = table;
  return table;
}

export const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
export const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;
