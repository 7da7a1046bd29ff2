// Check-in by the device's camera: the preview, and QR codes read from it again and again, so
// staff at the door check one person in after another without touching the screen. The
// browser's own `BarcodeDetector` reads the codes where it has one (Chrome on Android, Safari
// 17+); elsewhere jsQR reads frames drawn on a canvas, loaded only then. This file itself is
// loaded only when the window opens, so none of it is in the console's first load.
import { useEffect, useRef, useState } from 'react';
import { Alert, Modal, Spin, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { cameraProblem, createRepeatFilter, extractCode, type CameraProblem } from './scan';

/** The part of the Barcode Detection API used here (not in TypeScript's DOM types yet). */
interface Detector {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}
interface DetectorClass {
  new (options: { formats: string[] }): Detector;
  getSupportedFormats?: () => Promise<string[]>;
}

/** Reads the QR code in the video's current frame, if any. */
type Reader = (video: HTMLVideoElement) => Promise<string | undefined>;

/** How often a frame is read: often enough to feel instant, rarely enough for a phone's battery. */
const EVERY_MS = 200;
/** Frames are scaled down to this width before jsQR reads them (a QR code at the door fills the view). */
const READ_WIDTH = 640;

async function nativeReader(): Promise<Reader | undefined> {
  const D = (globalThis as { BarcodeDetector?: DetectorClass }).BarcodeDetector;
  if (!D) return undefined;
  try {
    const formats = (await D.getSupportedFormats?.()) ?? ['qr_code'];
    if (!formats.includes('qr_code')) return undefined;
    const detector = new D({ formats: ['qr_code'] });
    return async (video) => (await detector.detect(video))[0]?.rawValue;
  } catch {
    return undefined;
  }
}

async function jsqrReader(): Promise<Reader> {
  const { default: jsQR } = await import('jsqr');
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  return async (video) => {
    if (!ctx || !video.videoWidth) return undefined;
    const scale = Math.min(1, READ_WIDTH / video.videoWidth);
    const w = Math.round(video.videoWidth * scale);
    const h = Math.round(video.videoHeight * scale);
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    ctx.drawImage(video, 0, 0, w, h);
    const img = ctx.getImageData(0, 0, w, h);
    return jsQR(img.data, w, h, { inversionAttempts: 'attemptBoth' })?.data || undefined;
  };
}

type State = { step: 'starting' } | { step: 'running' } | { step: 'unavailable'; why: CameraProblem };

export interface ScanResult {
  ok: boolean;
  text: string;
}

/**
 * The scanning window. `onCode` is called with each check-in code read (once per person
 * in front of the camera); `last` is the answer to the latest one, shown under the preview.
 */
export default function ScanModal({
  onCode,
  onClose,
  last,
  busy,
}: {
  onCode: (code: string) => void;
  onClose: () => void;
  last?: ScanResult;
  busy: boolean;
}) {
  const { t } = useTranslation();
  const video = useRef<HTMLVideoElement>(null);
  const [state, setState] = useState<State>({ step: 'starting' });
  const [notACode, setNotACode] = useState(false);
  const handler = useRef(onCode);
  handler.current = onCode;

  useEffect(() => {
    let stopped = false;
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const seen = createRepeatFilter();
    const stop = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      stream?.getTracks().forEach((track) => track.stop());
      if (video.current) video.current.srcObject = null;
    };

    (async () => {
      if (!navigator.mediaDevices?.getUserMedia) {
        setState({ step: 'unavailable', why: window.isSecureContext === false ? 'insecure' : 'none' });
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          audio: false,
          video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
        });
      } catch (err) {
        if (!stopped) setState({ step: 'unavailable', why: cameraProblem(err) });
        return;
      }
      if (stopped || !video.current) {
        stream.getTracks().forEach((track) => track.stop());
        return;
      }
      const v = video.current;
      v.srcObject = stream;
      await v.play().catch(() => undefined);
      const read = (await nativeReader()) ?? (await jsqrReader());
      if (stopped) return;
      setState({ step: 'running' });
      const tick = async () => {
        if (stopped) return;
        let text: string | undefined;
        try {
          if (v.readyState >= v.HAVE_CURRENT_DATA) text = await read(v);
        } catch {
          text = undefined;
        }
        if (!stopped && text && seen.accept(text, Date.now())) {
          const code = extractCode(text);
          setNotACode(!code);
          if (code) handler.current(code);
        }
        if (!stopped) timer = setTimeout(tick, EVERY_MS);
      };
      void tick();
    })();
    return stop;
  }, []);

  const why = state.step === 'unavailable' ? state.why : undefined;
  const problem =
    why === 'denied'
      ? t('activities.scan.denied')
      : why === 'busy'
        ? t('activities.scan.busy')
        : why === 'insecure'
          ? t('activities.scan.insecure')
          : t('activities.scan.noCamera');

  return (
    <Modal
      open
      title={t('activities.scan.title')}
      footer={null}
      onCancel={onClose}
      width={520}
      style={{ maxWidth: '100vw', top: 8, paddingBottom: 0 }}
      styles={{ content: { padding: 12 } }}
    >
      <div data-testid="activity-scan-modal">
        {why ? (
          <Alert
            type="warning"
            showIcon
            message={problem}
            description={t('activities.scan.typeInstead')}
            data-testid="activity-scan-unavailable"
          />
        ) : (
          <>
            <div style={{ position: 'relative', background: '#000', borderRadius: 6, overflow: 'hidden' }}>
              <video
                ref={video}
                muted
                playsInline
                autoPlay
                style={{ display: 'block', width: '100%', maxHeight: '60vh', objectFit: 'cover' }}
                data-testid="activity-scan-video"
              />
              {state.step === 'starting' && (
                <Spin style={{ position: 'absolute', inset: 0, margin: 'auto', height: 32 }} />
              )}
            </div>
            <Typography.Paragraph type="secondary" style={{ margin: '8px 0 0' }}>
              {t('activities.scan.help')}
            </Typography.Paragraph>
          </>
        )}
        {notACode && !why && (
          <Alert style={{ marginTop: 8 }} type="warning" showIcon message={t('activities.scan.notACode')} data-testid="activity-scan-not-code" />
        )}
        {(busy || last) && !why && (
          <Alert
            style={{ marginTop: 8 }}
            type={busy ? 'info' : last?.ok ? 'success' : 'error'}
            showIcon
            message={busy ? t('activities.scan.checking') : last?.text}
            data-testid={busy ? 'activity-scan-busy' : last?.ok ? 'check-in-ok' : 'check-in-error'}
          />
        )}
      </div>
    </Modal>
  );
}
