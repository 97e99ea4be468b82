// The shared export folder writer: the files the contract names, labels in output order, metadata
// that reads back through its schema, the previous export replaced whole, and a folder of other
// files refused untouched.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readExportMetadata, writeExportFolder, type ExportMetadata } from '../../src/main/engine/export/export-folder.js';

const meta: ExportMetadata = { format: 'tflite', quantize: 'int8', inputSize: 96, layout: 'NHWC', range: [0, 255], classes: ['cat', 'dog'], run: 'r1', valAccuracy: 0.9 };

describe('writeExportFolder', () => {
  it('writes the model, labels.txt and metadata.json, and replaces an earlier export whole', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'export-folder-'));
    const dir = path.join(root, 'out');
    const files = await writeExportFolder(dir, [{ name: 'model.tflite', data: new Uint8Array([1, 2, 3]) }], meta);
    expect(files.map((f) => path.basename(f))).toEqual(['model.tflite', 'labels.txt', 'metadata.json']);
    expect(fs.readFileSync(path.join(dir, 'labels.txt'), 'utf8')).toBe('cat\ndog\n');
    expect([...fs.readFileSync(path.join(dir, 'model.tflite'))]).toEqual([1, 2, 3]);
    expect(readExportMetadata(dir)).toEqual(meta);
    await writeExportFolder(dir, [{ name: 'model.onnx', data: 'x' }], { ...meta, format: 'onnx', quantize: 'none' });
    expect(fs.readdirSync(dir).sort()).toEqual(['labels.txt', 'metadata.json', 'model.onnx']);
    expect(fs.readdirSync(root)).toEqual(['out']); // no temp folder left behind
  });

  it('refuses a non-empty folder that is not an export, leaving it as it was', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-folder-'));
    fs.writeFileSync(path.join(dir, 'thesis.txt'), 'keep me');
    await expect(writeExportFolder(dir, [{ name: 'model.tflite', data: 'x' }], meta)).rejects.toThrow(/not empty and holds no earlier export/);
    expect(fs.readdirSync(dir)).toEqual(['thesis.txt']);
  });

  it('reports a bad metadata.json by file and field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'export-folder-'));
    fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify({ ...meta, layout: 'NCHW' }));
    expect(() => readExportMetadata(dir)).toThrow(/metadata\.json: layout/);
    fs.writeFileSync(path.join(dir, 'metadata.json'), '{oops');
    expect(() => readExportMetadata(dir)).toThrow(/metadata\.json: not valid JSON/);
  });
});
