/* dashboard: filled by issue 8 */
