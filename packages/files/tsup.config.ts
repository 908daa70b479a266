export { libraryBuild as default } from '../../tsup.base.js';
