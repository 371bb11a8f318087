import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contradiction, stem } from '../src/cache/guards.js';

describe('cache guards: contradictions veto a hit', { timeout: 30_000 }, () => {
  const vetoed: Array<[string, string, string]> = [
    ['how do I enable two-factor login', 'how do I disable two-factor login', 'antonym'],
    ['How do I turn on location sharing?', 'How do I turn off location sharing?', 'antonym'],
    ['How do I log in?', 'How do I log out?', 'antonym'],
    ['how do I subscribe to the newsletter', 'how do I unsubscribe from the newsletter', 'antonym'],
    ['How do I lock my screen?', 'How do I unlock my screen?', 'antonym'],
    ['Which plans include phone support?', 'Which plans do not include phone support?', 'negation'],
    ["I can log in on my phone", "I can't log in on my phone", 'negation'],
    ['flights to Paris', 'flights from Paris', 'direction'],
    ['convert Celsius to Fahrenheit', 'convert Fahrenheit to Celsius', 'direction'],
    ['move money from savings to checking', 'transfer funds from my checking to my savings', 'direction'],
    ['can a landlord evict a tenant', 'can a tenant evict a landlord', 'role swap'],
    ['book a table for 2', 'book a table for four', 'number'],
    ['Where can I download my invoices?', 'Where can I download my invoices from 2023?', 'number'],
    ['reset my password on Windows', 'reset my password on macOS', 'alternative'],
    ['reset my password on windows', 'reset my password on mac', 'alternative'],
    ['Is the museum open on Sunday?', 'Is the museum open on Monday?', 'alternative'],
    ['How do I connect Slack to my workspace?', 'How do I connect Microsoft Teams to my workspace?', 'entity'],
    ['How do I share a file with Dropbox?', 'How do I share a file with Google Drive?', 'entity'],
    // Identifiers: letters and digits together name one product, version or error; another one is another answer.
    ['is the m2 laptop supported', 'is the m1 laptop supported', 'identifier'],
    ['user manual for printer model x7', 'user manual for printer model x1', 'identifier'],
    ['r7 reset router case 0', 'r1 reset router case 0', 'identifier'],
    ['is SKU-123-B in stock', 'is SKU-123-C in stock', 'identifier'],
    ['is SKU-123-B in stock', 'is SKU-124-B in stock', 'identifier'],
    ['what does error E0x80070005 mean', 'what does error E0x80070006 mean', 'identifier'],
    ['what does error 0x80070005 mean when updating', 'what does error 0x8007000e mean when updating', 'identifier'],
    ['what changed in v2.3.1', 'what changed in v2.3.2', 'identifier'],
    ['what changed in v2.3.1', 'what changed in v3.3.1', 'identifier'],
    ['what changed in version 2.3.1', 'what changed in version 2.4.1', 'identifier'],
    ['chrome shows ERR_CONNECTION_RESET', 'chrome shows ERR_CONNECTION_REFUSED', 'identifier'],
    ['chrome shows err_connection_reset', 'chrome shows err_connection_refused', 'identifier'],
    ['how do I fix error code ecb_42', 'how do I fix error code ecb_43', 'identifier'],
    ['battery life of the Galaxy S23', 'battery life of the Galaxy S24', 'identifier'],
    ['does the rtx4090 fit in my case', 'does the rtx4080 fit in my case', 'identifier'],
    ['firmware for the WRT54G router', 'firmware for the WRT54GL router', 'identifier'],
    ['replacement filter for model AB12', 'replacement filter for this model', 'identifier'],
    ['does the M2 support two monitors', 'does the M2 Max support two monitors', 'entity'],
    ['does the iPhone 14 have USB-C', 'does the iPhone 15 have USB-C', 'number'],
    ['upgrade my plan to 10GB', 'upgrade my plan to 20 GB', 'number'],
  ];
  for (const [a, b, rule] of vetoed) {
    it(`${rule}: "${a}" / "${b}"`, () => {
      assert.equal(contradiction(a, b)?.rule, rule);
      // Contradiction is symmetric: the cached and the new query may come in either order.
      assert.equal(contradiction(b, a)?.rule, rule);
    });
  }
});

describe('cache guards: paraphrases pass', { timeout: 30_000 }, () => {
  const paraphrases: Array<[string, string]> = [
    ['How do I reset my password?', 'I forgot my password, how can I set a new one?'],
    ['How do I reset my password?', "I can't remember my password. How do I get back into my account?"],
    ['How can I turn on two-factor login?', 'how do I enable two-factor login'],
    ['cheap flights to Paris', 'affordable flights into Paris'],
    ['How do I export my data from the platform?', 'How can I download all my data?'],
    ['how to reset my password', 'how do I reset my password'],
    ['How do I reset my password?', 'password reset, how?'],
    ['How do I connect Slack to my workspace?', 'How can I integrate slack with my workspace?'],
    ['Can I add or remove people from my team?', 'How do I add or remove members of my team?'],
    // Acronyms are capitalised without naming anything; "get" and "give" back are the same refund.
    ['How do I get a PDF of my invoices?', 'Can I download my invoices as a PDF?'],
    ['Can I get my money back?', 'Will you give me my money back?'],
    ['How do I set up Slack?', 'Can I hook Slack up to the workspace?'],
    // The same identifiers, written differently (case, separators, "v", other words around them), still hit.
    ['is the m2 laptop supported', 'does the M2 laptop have support'],
    ['user manual for printer model x7', 'where is the x7 printer manual'],
    ['is SKU-123-B in stock', 'is sku123b in stock'],
    ['is SKU-123-B in stock', 'do you have SKU_123_B in stock'],
    ['what does error E0x80070005 mean', 'meaning of error e0x80070005'],
    ['what changed in v2.3.1', 'what changed in version 2.3.1'],
    ['chrome shows ERR_CONNECTION_RESET', 'chrome says err_connection_reset'],
    ['battery life of the Galaxy S23', 'how long does the Galaxy s23 battery last'],
    ['does the iPhone 14 have USB-C', 'does the iPhone 14 come with USB-C'],
    ['upgrade my plan to 10GB', 'upgrade my plan to 10 GB'],
    ['how do I turn on 2FA', 'how do I enable 2fa'],
    ['who won the 3rd round', 'who won the 3 round'],
  ];
  for (const [a, b] of paraphrases) {
    it(`"${a}" / "${b}"`, () => {
      assert.equal(contradiction(a, b), null);
      assert.equal(contradiction(b, a), null);
    });
  }

  it('says what differs', () => {
    assert.deepEqual(contradiction('how do I enable it', 'how do I disable it'), { rule: 'antonym', detail: 'enable / disable' });
    assert.deepEqual(contradiction('flights to Paris', 'flights from Paris'), { rule: 'direction', detail: '"paris": towards / away' });
    assert.deepEqual(contradiction('a table for 2', 'a table for 4'), { rule: 'number', detail: '2 / 4' });
    assert.deepEqual(contradiction('is the m2 laptop supported', 'is the m1 laptop supported'), { rule: 'identifier', detail: 'm2 / m1' });
    assert.deepEqual(contradiction('what changed in v2.3.1', 'what changed in 2.3.2'), { rule: 'identifier', detail: '2.3.1 / 2.3.2' });
  });

  it('stems inflections together so that they meet', () => {
    assert.equal(stem('enabling'), stem('enable'));
    assert.equal(stem('enabled'), stem('enable'));
    assert.equal(stem('flights'), stem('flight'));
    assert.equal(stem('Address'), 'address');
  });
});
