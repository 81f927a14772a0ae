import { useTranslation } from 'react-i18next';
import { localeOf } from '../locale';

/**
 * The language switch (issue 15): 中文 / English, each named in its own language. Changing it
 * re-renders every translated string at once; the choice is remembered (main.tsx stores it).
 */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation('shell');
  return (
    <select
      className="langswitch"
      aria-label={t('language')}
      title={t('language')}
      data-testid="language-switch"
      value={localeOf(i18n)}
      onChange={(e) => void i18n.changeLanguage(e.target.value)}
    >
      <option value="zh" lang="zh-CN">
        {t('languages.zh')}
      </option>
      <option value="en" lang="en">
        {t('languages.en')}
      </option>
    </select>
  );
}
