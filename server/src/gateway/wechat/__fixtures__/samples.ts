/**
 * What each of the 51 wechatpy samples (messages-wechatpy/MANIFEST.json) must become on the channel:
 * a queued customer `message` (its kind and text or key meta), a conversation `event` (its name and
 * data; stored only when the customer has an open conversation) or an acknowledged push (`ignore`,
 * counted under its type and reason). docs/channels/wechat.md has the same table in words.
 */
export type SampleExpectation =
  | { disposition: 'message'; kind: 'text'; text: string; meta?: Record<string, string> }
  | { disposition: 'message'; kind: 'image' }
  | { disposition: 'event'; name: string; data?: Record<string, string> }
  | { disposition: 'ignore'; type: string; reason: 'platform-notice' | 'location-report' | 'unknown-type' };

const notice = (type: string): SampleExpectation => ({ disposition: 'ignore', type, reason: 'platform-notice' });
const event = (name: string, data?: Record<string, string>): SampleExpectation => ({
  disposition: 'event',
  name,
  ...(data ? { data } : {}),
});

export const SAMPLE_EXPECTATIONS: Record<string, SampleExpectation> = {
  'parser__test_parse_text_message.xml': {
    disposition: 'message',
    kind: 'text',
    text: 'this is a test',
    meta: { msgId: '1234567890123456' },
  },
  'parser__test_parse_image_message.xml': { disposition: 'message', kind: 'image' },
  'parser__test_parse_voice_message.xml': {
    disposition: 'message',
    kind: 'text',
    text: '[voice message]',
    meta: { mediaId: 'media_id', format: 'Format' },
  },
  'parser__test_parse_video_message.xml': {
    disposition: 'message',
    kind: 'text',
    text: '[video]',
    meta: { mediaId: 'media_id', thumbMediaId: 'thumb_media_id' },
  },
  'parser__test_parse_location_message.xml': {
    disposition: 'message',
    kind: 'text',
    text: '[location] 位置信息 (23.134521, 113.358803)',
    meta: { latitude: '23.134521', longitude: '113.358803', scale: '20', label: '位置信息' },
  },
  'parser__test_parse_link_message.xml': {
    disposition: 'message',
    kind: 'text',
    text: '[link]\n公众平台官网链接\n公众平台官网链接\nurl',
    meta: { url: 'url' },
  },
  'parser__test_parse_unknown_message.xml': { disposition: 'ignore', type: 'unknown', reason: 'unknown-type' },
  'parser__test_parse_device_bind_event.xml': notice('device_event'),
  'parser__test_parse_device_text_event.xml': notice('device_text'),
  'parser__test_parse_location_event.xml': { disposition: 'ignore', type: 'event.location', reason: 'location-report' },
  'events__test_location_event.xml': { disposition: 'ignore', type: 'event.location', reason: 'location-report' },
  'events__test_mass_send_job_finish_event.xml': notice('event.masssendjobfinish'),
  'events__test_template_send_job_finish_event.xml': notice('event.templatesendjobfinish'),
  'events__test_template_subscribe_msg_popup_event.xml': notice('event.subscribe_msg_popup_event'),
  'events__test_template_subscribe_msg_change_event.xml': notice('event.subscribe_msg_change_event'),
  'events__test_template_subscribe_msg_sent_event.xml': notice('event.subscribe_msg_sent_event'),
  'events__test_merchant_order_event.xml': notice('event.merchant_order'),
  'events__test_naming_verify_fail_event.xml': notice('event.naming_verify_fail'),
  'events__test_naming_verify_success_event.xml': notice('event.naming_verify_success'),
  'events__test_qualification_verify_fail_event.xml': notice('event.qualification_verify_fail'),
  'events__test_qualification_verify_success_event.xml': notice('event.qualification_verify_success'),
  'events__test_annual_renew_event.xml': notice('event.annual_renew'),
  'events__test_verify_expired_event.xml': notice('event.verify_expired'),
  'events__test_shakearound_user_shake_event.xml': notice('event.shakearoundusershake'),
  'events__test_wifi_connected_event.xml': notice('event.wificonnected'),
  'parser__test_parse_submit_invoice_title_event.xml': notice('event.submit_invoice_title'),
  'parser__test_parse_update_invoice_status_event.xml': notice('event.update_invoice_status'),
  'parser__test_parse_user_authorize_invoice_event.xml': notice('event.user_authorize_invoice'),
  'events__test_click_event.xml': event('wechat.click', { eventKey: 'EVENTKEY' }),
  'parser__test_parse_click_event.xml': event('wechat.click', { eventKey: 'EVENTKEY' }),
  'events__test_kf_create_session_event.xml': event('wechat.kf_create_session', { kfAccount: 'test1@test' }),
  'events__test_kf_close_session_event.xml': event('wechat.kf_close_session', { kfAccount: 'test1@test' }),
  'events__test_kf_switch_session_event.xml': event('wechat.kf_switch_session', { fromKfAccount: 'test1@test', toKfAccount: 'test2@test' }),
  'events__test_location_select_event.xml': event('wechat.location_select', {
    eventKey: '6',
    latitude: '23',
    longitude: '113',
    scale: '15',
    label: '广州市海珠区客村艺苑路 106号',
  }),
  'events__test_pic_photo_or_album_event.xml': event('wechat.pic_photo_or_album', { eventKey: '6', count: '1' }),
  'events__test_pic_sysphoto_event.xml': event('wechat.pic_sysphoto', { eventKey: '6', count: '1' }),
  'events__test_pic_wechat_event.xml': event('wechat.pic_weixin', { eventKey: '6', count: '1' }),
  'events__test_scan_code_push_event.xml': event('wechat.scancode_push', { eventKey: '6', scanType: 'qrcode', scanResult: '1' }),
  'events__test_scan_code_waitmsg_event.xml': event('wechat.scancode_waitmsg', { eventKey: '6', scanType: 'qrcode', scanResult: '2' }),
  'events__test_scan_event.xml': event('wechat.scan', { eventKey: 'SCENE_VALUE', scene: 'SCENE_VALUE', ticket: 'TICKET' }),
  'parser__test_parse_scan_event.xml': event('wechat.scan', { eventKey: '123123', scene: '123123', ticket: 'TICKET' }),
  'events__test_subscribe_event.xml': event('wechat.subscribe'),
  'parser__test_parse_subscribe_event.xml': event('wechat.subscribe'),
  'events__test_subscribe_scan_event.xml': event('wechat.subscribe', { eventKey: 'qrscene_123123', scene: '123123', ticket: 'TICKET' }),
  'parser__test_parse_subscribe_scan_event.xml': event('wechat.subscribe', {
    eventKey: 'qrscene_123123',
    scene: '123123',
    ticket: 'TICKET',
  }),
  'parser__test_parse_subscribe_event_with_last_trade_no.xml': event('wechat.subscribe', {
    eventKey: 'last_trade_no_4008072001201701105817415015',
  }),
  'parser__test_parse_subscribe_scan_product_event.xml': event('wechat.subscribe', { eventKey: 'scanbarcode|keystandard|keystr' }),
  'parser__test_parse_subscribe_scan_product_event_2.xml': event('wechat.subscribe', { eventKey: 'scanimage|keystandard|keystr' }),
  'events__test_unsubscribe_event.xml': event('wechat.unsubscribe'),
  'events__test_view_event.xml': event('wechat.view', { url: 'www.qq.com' }),
  'parser__test_parse_view_event.xml': event('wechat.view', { url: 'www.qq.com' }),
};
