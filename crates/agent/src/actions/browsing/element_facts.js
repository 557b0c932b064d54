function() {
    const tag = this.tagName ? this.tagName.toLowerCase() : '';
    const type = (this.getAttribute && this.getAttribute('type') || '').toLowerCase();
    const submits = !!this.form && ((tag === 'button' && (type === '' || type === 'submit'))
        || (tag === 'input' && (type === 'submit' || type === 'image')));
    const text = [this.innerText, tag === 'input' ? this.value : '',
        this.getAttribute && this.getAttribute('aria-label'), this.title]
        .filter(Boolean).join(' ').slice(0, 300);
    const link = this.closest ? this.closest('a[href]') : null;
    return {submits, text, href: link ? link.href : null};
}
