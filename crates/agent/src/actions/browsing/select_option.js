function(option) {
    if (!(this instanceof HTMLSelectElement)) {
        return {error: 'it is a <' + this.tagName.toLowerCase() + '>, not a native select; click it to open it and click the option'};
    }
    const want = option.trim().toLowerCase();
    const options = [...this.options];
    const text = o => o.text.trim().toLowerCase();
    const found = options.find(o => text(o) === want)
        || options.find(o => o.value.toLowerCase() === want)
        || options.find(o => text(o).includes(want));
    if (!found) {
        return {error: 'no option ' + JSON.stringify(option) + '; the options are: ' + options.map(o => o.text.trim()).join(' | ')};
    }
    if (found.disabled) return {error: 'the option ' + JSON.stringify(found.text.trim()) + ' is disabled'};
    this.focus();
    this.value = found.value;
    found.selected = true;
    this.dispatchEvent(new Event('input', {bubbles: true}));
    this.dispatchEvent(new Event('change', {bubbles: true}));
    return {selected: found.text.trim(), value: this.value};
}
