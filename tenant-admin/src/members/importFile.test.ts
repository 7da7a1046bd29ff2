import { describe, expect, it } from 'vitest';
import { csvHeader, guessTarget, splitCsvLine } from './importFile';

describe('import file headers', () => {
  it('reads the first CSV row with quotes, a BOM and either line ending', () => {
    expect(csvHeader('\uFEFF姓名,"Phone, mobile",e-mail\r\n王,1,2\r\n')).toEqual(['姓名', 'Phone, mobile', 'e-mail']);
    expect(csvHeader('"a ""quoted"" name",b\nx,y')).toEqual(['a "quoted" name', 'b']);
    expect(csvHeader('"line\nbreak",c\n1,2')).toEqual(['line\nbreak', 'c']);
  });

  it('accepts semicolons when a line has no comma', () => {
    expect(splitCsvLine('name;phone;notes')).toEqual(['name', 'phone', 'notes']);
  });

  it('guesses the field from its key or its label in either language', () => {
    const targets = [
      { value: 'name', names: ['Name', '姓名'] },
      { value: 'custom.shoe_size', names: ['shoe_size', '鞋码', 'Shoe size'] },
    ];
    expect(guessTarget('姓名', targets)).toBe('name');
    expect(guessTarget(' shoe size ', targets)).toBe('custom.shoe_size');
    expect(guessTarget('custom.shoe_size', targets)).toBe('custom.shoe_size');
    expect(guessTarget('unknown', targets)).toBe('-');
  });
});
