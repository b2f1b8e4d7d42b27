; Inno Setup script for Osler on Windows: a per-user install that needs no administrator rights.
; Built by .github/workflows/release.yml after `python packaging/build.py` has frozen build\dist\osler:
;   iscc /DVersion=0.1.0 /DSourceDir=build\dist\osler /DOutputDir=dist packaging\windows\osler.iss
; The app keeps its data under %LOCALAPPDATA%\Osler (platformdirs), never in its install folder, so an update or
; an uninstall leaves the vault alone.

#ifndef Version
  #define Version "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\build\dist\osler"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
AppId={{6E7B3C52-4F0A-4D8E-9B55-0B3A1C2D7E41}
AppName=Osler
AppVersion={#Version}
AppPublisher=Osler contributors
AppComments=Offline-first mentorship for medical students
DefaultDirName={localappdata}\Programs\Osler
DefaultGroupName=Osler
DisableProgramGroupPage=yes
; per user, no UAC prompt: a student on a shared or locked-down computer can still install
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=osler-{#Version}-windows-x64-setup
SetupIconFile=..\..\build\osler.ico
UninstallDisplayIcon={app}\osler.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; French and English: the same languages as the app
ShowLanguageDialog=auto

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
Name: "fr"; MessagesFile: "compiler:Languages\French.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{userprograms}\Osler"; Filename: "{app}\osler.exe"
Name: "{userdesktop}\Osler"; Filename: "{app}\osler.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\osler.exe"; Description: "{cm:LaunchProgram,Osler}"; Flags: nowait postinstall skipifsilent
