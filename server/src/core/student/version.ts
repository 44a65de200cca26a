import pinyinProPackage from 'pinyin-pro/package.json';

/** Recorded in the model: the student's features depend on pinyin-pro's dictionary. */
export const PINYIN_PRO_VERSION: string = pinyinProPackage.version;
