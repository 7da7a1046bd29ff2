import { describe, expect, it } from 'vitest';
import { inProgress, messagesOf, openedKey } from './api';

describe('campaign messages', () => {
  it('keeps one message per channel and language with text, SMS without a subject', () => {
    const m = messagesOf(['email', 'sms'], {
      'email.zh-CN': { subject: ' 你好 ', body: '春季' },
      'email.en': { subject: '', body: '' },
      'sms.en': { subject: 'ignored', body: 'Hi' },
    });
    expect(m).toEqual([
      { channel: 'email', locale: 'zh-CN', subject: '你好', body: '春季' },
      { channel: 'sms', locale: 'en', body: 'Hi' },
    ]);
  });

  it('names e-mail opens and inbox reads, and no opens for texts', () => {
    expect(openedKey('email')).toBe('campaigns.openedEmail');
    expect(openedKey('inbox')).toBe('campaigns.opened');
    expect(openedKey('sms')).toBeNull();
  });

  it('refreshes while scheduled or sending', () => {
    expect(inProgress({ status: 'sending' })).toBe(true);
    expect(inProgress({ status: 'done' })).toBe(false);
  });
});
