import { describe, expect, it } from 'vitest';
import type { HuiliuError } from '../../../common/errors/codes';
import { checkUpload, classifyFile, cleanFileName } from './files';

const b = (...bytes: number[]) => Buffer.from(bytes);

describe('classifyFile (issue 13: magic bytes decide)', () => {
  it('names programs and scripts', () => {
    const cases: [Buffer, string][] = [
      [Buffer.from('MZ\x90\x00'), 'pe'],
      [b(0x7f, 0x45, 0x4c, 0x46, 2), 'elf'],
      [b(0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1), 'mach-o'],
      [b(0xfe, 0xed, 0xfa, 0xce), 'mach-o'],
      [b(0xca, 0xfe, 0xba, 0xbe), 'java-class-or-fat-mach-o'],
      [b(0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0), 'wasm'],
      [Buffer.from('dex\n035\0'), 'dex'],
      [Buffer.from('#!/usr/bin/env python\n'), 'script'],
      [Buffer.concat([b(0xef, 0xbb, 0xbf), Buffer.from('#!/bin/sh\n')]), 'script'],
      [Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(26), Buffer.from('AndroidManifest.xml')]), 'zip-package'],
    ];
    for (const [bytes, what] of cases) expect(classifyFile(bytes)).toEqual({ kind: 'executable', what });
  });

  it('accepts PDF and UTF-8 text, and nothing else that is not an image', () => {
    expect(classifyFile(Buffer.from('%PDF-2.0\n'))).toMatchObject({ kind: 'accepted', mime: 'application/pdf' });
    expect(classifyFile(Buffer.from('日本語 and English\n'))).toMatchObject({ kind: 'accepted', mime: 'text/plain' });
    expect(classifyFile(b(0x68, 0x69, 0x00, 0x21))).toEqual({ kind: 'unknown' }); // a NUL
    expect(classifyFile(b(0x68, 0xc3, 0x28))).toEqual({ kind: 'unknown' }); // broken UTF-8
    expect(classifyFile(Buffer.alloc(0))).toEqual({ kind: 'unknown' });
    expect(classifyFile(Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(26), Buffer.from('a.txt')]))).toEqual({ kind: 'unknown' });
  });

  it('checks the declared type only when it is one of ours', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as HuiliuError).code;
      }
      return 'accepted';
    };
    expect(code(() => checkUpload(Buffer.from('%PDF-1.4'), 'application/octet-stream', ['application/pdf']))).toBe('accepted');
    expect(code(() => checkUpload(Buffer.from('%PDF-1.4'), 'text/plain', ['application/pdf', 'text/plain']))).toBe('UPLOAD_TYPE_REFUSED');
    expect(code(() => checkUpload(Buffer.from('%PDF-1.4'), undefined, ['text/plain']))).toBe('UPLOAD_TYPE_REFUSED');
    expect(code(() => checkUpload(Buffer.from('MZ'), 'image/png', ['image/png']))).toBe('UPLOAD_EXECUTABLE');
  });
});

describe('cleanFileName', () => {
  it('keeps the last path segment, drops controls and bidi overrides, bounds the length', () => {
    expect(cleanFileName('../../etc/passwd')).toBe('passwd');
    expect(cleanFileName('C:\\Users\\a\\report.pdf')).toBe('report.pdf');
    // Percent-encoded separators count as separators too (issue 17), as a program decoding the name would read it.
    expect(cleanFileName('..%2F..%2Fsecret.txt')).toBe('secret.txt');
    expect(cleanFileName('..%5c..%5Cwin.ini')).toBe('win.ini');
    expect(cleanFileName('in\u202Evoice\u0000\u0007  final .pdf')).toBe('invoice final .pdf');
    expect(cleanFileName('')).toBe('file');
    expect(cleanFileName(undefined)).toBe('file');
    expect(cleanFileName('..')).toBe('file');
    expect(cleanFileName('👩‍👩‍👧'.repeat(50)).length).toBeLessThanOrEqual(120);
    expect(cleanFileName('👩‍👩‍👧'.repeat(50))).toBe('👩‍👩‍👧'.repeat(15));
  });
});
