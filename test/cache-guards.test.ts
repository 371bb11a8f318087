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
  });

  it('stems inflections together so that they meet', () => {
    assert.equal(stem('enabling'), stem('enable'));
    assert.equal(stem('enabled'), stem('enable'));
    assert.equal(stem('flights'), stem('flight'));
    assert.equal(stem('Address'), 'address');
  });
});
